import { readFileSync } from "node:fs";
import { join } from "node:path";

import { EVENT_FILES as FILES, type EventName, projectRoot, TOKEN_PLACEHOLDER as PLACEHOLDER } from "../../src/local/project";

export type { EventName };

/** The text of a sample event under events/ (found from the project root, so bundled callers work too). */
export function eventTemplate(name: EventName): string {
  return readFileSync(join(projectRoot(), "events", FILES[name]), "utf8");
}

/** The sample event from events/, as API Gateway sends it. */
export function loadEvent(name: EventName): Record<string, unknown> {
  return JSON.parse(eventTemplate(name));
}

/**
 * The one event builder: a sample event's text with `token` in place of the placeholder (so it is
 * sent as `Bearer <token>`), asking for `route` ("GET /pets"). The ARN keeps the sample's region,
 * account, API id and stage. Takes the template text so that hot loops read the file once.
 */
export function fillEvent(template: string, name: EventName, token: string, route = "GET /pets"): Record<string, unknown> {
  const event = JSON.parse(template.split(PLACEHOLDER).join(token)) as Record<string, unknown>;
  const [method, path] = route.split(" ");
  const arnField = name === "http-api" ? "routeArn" : "methodArn";
  event[arnField] = String(event[arnField]).replace(/\/[A-Z*]+\/.*$/, `/${method}${path}`);
  if (name === "request") Object.assign(event, { httpMethod: method, path, resource: path });
  if (name === "http-api") Object.assign(event, { routeKey: route, rawPath: path });
  return event;
}

/** A sample event carrying `token`, asking for `route` (see fillEvent). */
export function eventFor(name: EventName, token: string, route = "GET /pets"): Record<string, unknown> {
  return fillEvent(eventTemplate(name), name, token, route);
}

export const STAGE_PREFIX = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod";
export const HTTP_STAGE_PREFIX = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/$default";
