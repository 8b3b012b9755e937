// One scrape of /metrics as the console's server side hands it over: [family, sample, labels, value].
export async function scrape() {
  const response = await fetch("/console/metrics/scrape", { credentials: "same-origin" });
  return response.json();
}

// The sum of a sample's values over the series whose labels match `where` (grouped by `by`, if given).
export function total(samples, name, where = {}, by = null) {
  const out = new Map();
  for (const [, sample, labels, value] of samples) {
    if (sample !== name) continue;
    if (!Object.entries(where).every(([k, v]) => labels[k] === v)) continue;
    const key = by ? labels[by] ?? "" : "";
    out.set(key, (out.get(key) || 0) + value);
  }
  return by ? out : out.get("") ?? null;
}
