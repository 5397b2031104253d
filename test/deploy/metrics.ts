/** The metrics a dashboard body or an alarm reads, and the metric-math expressions over them. */
import type { Json, JsonObject, Resolved } from "./cfn";
import { emfMetrics as parseEmf } from "../support/capture";

export interface MetricRef {
  /** Where it was found, for messages: "dashboard: Decisions per minute" or "alarm ThrottleAlarm". */
  readonly source: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  /** The metric-math id, where it has one. */
  readonly id?: string;
  readonly stat?: string;
}

export interface ExpressionRef {
  readonly source: string;
  readonly id: string;
  readonly expression: string;
}

export interface MetricUse {
  metrics: MetricRef[];
  expressions: ExpressionRef[];
}

const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);

function dimensionsOf(list: Json | undefined, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of Array.isArray(list) ? list : []) {
    if (!isObject(d) || typeof d.Name !== "string" || typeof d.Value !== "string") {
      throw new Error(`${where}: dimension ${JSON.stringify(d)} is not {Name, Value}`);
    }
    out[d.Name] = d.Value;
  }
  return out;
}

/** The metrics and expressions of every AWS::CloudWatch::Alarm in a resolved template. */
export function alarmMetrics(resolved: Resolved): MetricUse {
  const use: MetricUse = { metrics: [], expressions: [] };
  for (const [id, r] of Object.entries(resolved.resources)) {
    if (r.Type !== "AWS::CloudWatch::Alarm") continue;
    const p = r.Properties;
    const source = `alarm ${id}`;
    if (typeof p.MetricName === "string") {
      use.metrics.push({
        source,
        namespace: String(p.Namespace),
        metricName: p.MetricName,
        dimensions: dimensionsOf(p.Dimensions, source),
        stat: String(p.Statistic ?? p.ExtendedStatistic),
      });
    }
    for (const q of Array.isArray(p.Metrics) ? p.Metrics : []) {
      if (!isObject(q)) continue;
      if (typeof q.Expression === "string") use.expressions.push({ source, id: String(q.Id), expression: q.Expression });
      const stat = isObject(q.MetricStat) ? q.MetricStat : undefined;
      const metric = stat && isObject(stat.Metric) ? stat.Metric : undefined;
      if (metric) {
        use.metrics.push({
          source,
          namespace: String(metric.Namespace),
          metricName: String(metric.MetricName),
          dimensions: dimensionsOf(metric.Dimensions, source),
          id: String(q.Id),
          stat: String(stat?.Stat),
        });
      }
    }
  }
  return use;
}

export interface Widget {
  type: string;
  properties: JsonObject;
}

/**
 * The metric rows of a dashboard's metric widgets. A row is
 * [namespace, name, dimName, dimValue, …, {options}] or [{expression, id…}]. The "." / "..."
 * shorthands are refused so that every row says exactly what it reads.
 */
export function dashboardMetrics(body: { widgets: Widget[] }): MetricUse {
  const use: MetricUse = { metrics: [], expressions: [] };
  for (const widget of body.widgets) {
    if (widget.type !== "metric") continue;
    const source = `dashboard: ${String(widget.properties.title)}`;
    const widgetStat = typeof widget.properties.stat === "string" ? widget.properties.stat : undefined;
    for (const row of Array.isArray(widget.properties.metrics) ? widget.properties.metrics : []) {
      if (!Array.isArray(row)) throw new Error(`${source}: metric row ${JSON.stringify(row)} is not a list`);
      const last = row[row.length - 1];
      const options = isObject(last) ? last : {};
      const parts = isObject(last) ? row.slice(0, -1) : row;
      if (parts.length === 0) {
        if (typeof options.expression !== "string") throw new Error(`${source}: row without metric or expression`);
        use.expressions.push({ source, id: String(options.id), expression: options.expression });
        continue;
      }
      if (parts.some((p) => typeof p !== "string" || p === "." || p === "...")) {
        throw new Error(`${source}: row ${JSON.stringify(row)} must spell out namespace, name and dimensions`);
      }
      const [namespace, metricName, ...dims] = parts as string[];
      if (dims.length % 2 !== 0) throw new Error(`${source}: row ${JSON.stringify(row)} has a dimension without value`);
      const dimensions: Record<string, string> = {};
      for (let i = 0; i < dims.length; i += 2) dimensions[dims[i]] = dims[i + 1];
      const stat = typeof options.stat === "string" ? options.stat : widgetStat;
      use.metrics.push({
        source,
        namespace,
        metricName,
        dimensions,
        ...(typeof options.id === "string" ? { id: options.id } : {}),
        ...(stat ? { stat } : {}),
      });
    }
  }
  return use;
}

/** Metric-math ids an expression uses (lower-case names that are not function calls). */
export function expressionIds(expression: string): string[] {
  const withoutStrings = expression.replace(/"[^"]*"|'[^']*'/g, "");
  const ids = new Set<string>();
  for (const m of withoutStrings.matchAll(/\b([a-z][A-Za-z0-9_]*)\b(?!\s*\()/g)) ids.add(m[1]);
  return [...ids];
}

/** Expressions that name an id not defined in the same alarm or widget. */
export function undefinedExpressionIds(use: MetricUse): string[] {
  const problems: string[] = [];
  const bySource = new Map<string, Set<string>>();
  for (const m of use.metrics) if (m.id) (bySource.get(m.source) ?? bySource.set(m.source, new Set()).get(m.source))!.add(m.id);
  for (const e of use.expressions) (bySource.get(e.source) ?? bySource.set(e.source, new Set()).get(e.source))!.add(e.id);
  for (const e of use.expressions) {
    for (const id of expressionIds(e.expression)) {
      if (!bySource.get(e.source)?.has(id)) problems.push(`${e.source}: expression ${e.id} uses undefined id ${id}`);
    }
  }
  return problems;
}

/** One metric as the code writes it in an EMF record. */
export interface EmittedMetric {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
}

/** Every (namespace, metric, dimension set) an EMF record publishes, read with the test kit's one EMF parser. */
export function emfMetrics(record: JsonObject): EmittedMetric[] {
  return parseEmf([record]).flatMap((m) =>
    m.dimensionSets.map((dimensions) => ({ namespace: String(m.namespace), metricName: String(m.name), dimensions })),
  );
}

const sameDimensions = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

/** References that no emitted metric matches exactly (namespace, name, dimension names and values). */
export function unmatchedReferences(refs: readonly MetricRef[], emitted: readonly EmittedMetric[]): string[] {
  return refs
    .filter(
      (r) =>
        !emitted.some(
          (e) => e.namespace === r.namespace && e.metricName === r.metricName && sameDimensions(e.dimensions, r.dimensions),
        ),
    )
    .map((r) => `${r.source}: ${r.namespace}/${r.metricName} ${JSON.stringify(r.dimensions)} is never emitted`);
}
