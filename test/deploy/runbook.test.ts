/**
 * Every alarm, the optional ones included, points at a runbook section of docs/deploy.md that exists
 * and names it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadTemplate, REPO_ROOT, resolveTemplate } from "./cfn";

const doc = readFileSync(join(REPO_ROOT, "docs", "deploy.md"), "utf8");

/** GitHub's anchor for a Markdown heading. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");

/** anchor → the section's text, up to the next heading of the same or a higher level. */
function sections(markdown: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = markdown.split("\n");
  lines.forEach((line, i) => {
    const m = /^(#{1,6}) (.+)$/.exec(line);
    if (!m) return;
    const end = lines.findIndex((l, j) => j > i && new RegExp(`^#{1,${m[1].length}} `).test(l));
    out.set(slug(m[2]), lines.slice(i, end === -1 ? undefined : end).join("\n"));
  });
  return out;
}

describe("the runbook", () => {
  const resolved = resolveTemplate(loadTemplate(), { parameters: { Api4xxRateThreshold: "10" } });
  const alarms = Object.entries(resolved.resources).filter(([, r]) => r.Type === "AWS::CloudWatch::Alarm");
  const bySlug = sections(doc);

  it("finds sections by their GitHub anchors", () => {
    expect(slug("API 4XX rate")).toBe("api-4xx-rate");
    expect(slug("Rollouts: alias, canary, concurrency")).toBe("rollouts-alias-canary-concurrency");
    expect(bySlug.get("401-rate")).toMatch(/^### 401 rate/);
    expect(bySlug.get("no-such-section")).toBeUndefined();
  });

  it.each(alarms.map(([id, r]) => [id, r.Properties]))("has a section for %s that names the alarm", (_, properties) => {
    const anchor = /Runbook: docs\/deploy\.md#([a-z0-9-]+)/.exec(String(properties.AlarmDescription))?.[1];
    expect(anchor).toBeDefined();
    const section = bySlug.get(anchor!);
    expect({ anchor, found: section !== undefined }).toEqual({ anchor, found: true });
    const name = String(properties.AlarmName).replace(/^pets-auth-/, "<stack>-");
    expect(section).toContain(`\`${name}\``);
  });

  it("links only to sections that exist", () => {
    const links = [...doc.matchAll(/\]\(#([a-z0-9-]+)\)/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(5);
    expect(links.filter((l) => !bySlug.has(l))).toEqual([]);
  });
});
