import { readFileSync } from "node:fs";
import { join } from "node:path";

import { EVENT_FILES as FILES, type EventName, TOKEN_PLACEHOLDER as PLACEHOLDER } from "../../src/local/project";

export type { EventName };

/** The sample event from events/, as API Gateway sends it. */
export function loadEvent(name: EventName): Record<string, unknown> {
  return JSON.parse(readFileSync(join(__dirname, "..", "..", "events", FILES[name]), "utf8"));
}

/**
 * A sample event carrying `token` (as `Bearer <token>`), asking for `route` ("GET /pets").
 * The ARN keeps the sample's region, account, API id and stage.
 */
export function eventFor(name: EventName, token: string, route = "GET /pets"): Record<string, unknown> {
  const text = readFileSync(join(__dirname, "..", "..", "events", FILES[name]), "utf8").split(PLACEHOLDER).join(token);
  const event = JSON.parse(text) as Record<string, unknown>;
  const [method, path] = route.split(" ");
  const arnField = name === "http-api" ? "routeArn" : "methodArn";
  const arn = String(event[arnField]).replace(/\/[A-Z*]+\/.*$/, `/${method}${path}`);
  event[arnField] = arn;
  if (name === "request") Object.assign(event, { httpMethod: method, path, resource: path });
  if (name === "http-api") Object.assign(event, { routeKey: route, rawPath: path });
  return event;
}

export const STAGE_PREFIX = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod";
export const HTTP_STAGE_PREFIX = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/$default";
