/** Loaded by jest before each test file (jest.config.js): whatever a failing test left open is closed. */
import { closeLeftovers } from "./cleanup";

afterAll(closeLeftovers);
