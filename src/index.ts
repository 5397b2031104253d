/**
 * The Lambda entry point (`index.handler`). Everything here runs once per container, at init:
 * observability, validated config, verifiers and the key-set prefetch.
 */
import { createHandler, initialize } from "./handler";
import { createObservability } from "./observability";

export const handler = createHandler(initialize(process.env, createObservability(process.env)));
