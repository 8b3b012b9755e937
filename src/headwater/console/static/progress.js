// Long work on a table's page (a GSI backfilling, an export in progress): its bar is filled from /metrics'
// headwater_index_backfill_items_{done,total} and headwater_export_items_{done,total} when the server
// reports them; without them the status text alone stays.
import { scrape, total } from "./scrape.js";

const bars = [...document.querySelectorAll(".progress")];
async function update() {
  const doc = await scrape();
  if (doc.error) return;
  let working = false;
  for (const bar of bars) {
    const d = bar.dataset;
    const [done, whole] = d.kind === "backfill"
      ? [total(doc.samples, "headwater_index_backfill_items_done", { table: d.table, index: d.index }),
         total(doc.samples, "headwater_index_backfill_items_total", { table: d.table, index: d.index })]
      : [total(doc.samples, "headwater_export_items_done", { export_arn: d.export }),
         total(doc.samples, "headwater_export_items_total", { export_arn: d.export })];
    if (done === null) continue;
    working = true;
    const meter = bar.querySelector("progress");
    if (whole) { meter.max = whole; meter.value = done; } else { meter.removeAttribute("value"); }
    bar.querySelector(".count").textContent = whole ? `${done} / ${whole} items` : `${done} items`;
  }
  if (working) setTimeout(update, 1000);
}
if (bars.length) update();
