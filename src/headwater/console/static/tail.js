// The stream's live tail: Server-Sent Events from the console (each response ends with a position the
// browser sends back as Last-Event-ID), each record shown with its old/new image differences.
const tail = document.getElementById("tail");
if (tail) {
  const rows = document.getElementById("records");
  const status = document.getElementById("tail-status");
  const source = new EventSource(tail.dataset.src);
  const MAX_ROWS = 200;
  const show = (v) => (v === undefined ? "" : JSON.stringify(v));
  const cell = (content) => { const td = document.createElement("td"); td.append(content); return td; };

  const diff = (oldImage, newImage) => {
    const box = document.createElement("div");
    box.className = "diff";
    const names = new Set([...Object.keys(oldImage || {}), ...Object.keys(newImage || {})]);
    for (const name of [...names].sort()) {
      const before = oldImage ? oldImage[name] : undefined;
      const after = newImage ? newImage[name] : undefined;
      const line = document.createElement("div");
      if (oldImage && newImage && show(before) === show(after)) continue;
      if (before === undefined) { line.className = "added"; line.textContent = `+ ${name}: ${show(after)}`; }
      else if (after === undefined) { line.className = "removed"; line.textContent = `- ${name}: ${show(before)}`; }
      else { line.className = "changed"; line.textContent = `~ ${name}: ${show(before)} → ${show(after)}`; }
      box.append(line);
    }
    if (!box.childElementCount) box.textContent = oldImage || newImage ? "(no attribute changed)" : "(keys only)";
    return box;
  };

  source.addEventListener("record", (message) => {
    const record = JSON.parse(message.data);
    const tr = document.createElement("tr");
    tr.className = "fresh record " + String(record.event).toLowerCase();
    const when = record.time ? new Date(record.time * 1000).toLocaleTimeString() : "";
    tr.append(cell(when), cell(record.event), cell(show(record.keys)), cell(diff(record.old, record.new)));
    rows.prepend(tr);
    while (rows.childElementCount > MAX_ROWS) rows.lastElementChild.remove();
  });
  source.addEventListener("position", (message) => {
    const { ages } = JSON.parse(message.data);
    for (const [shard, age] of Object.entries(ages)) {
      const el = document.querySelector(`.age[data-shard="${CSS.escape(shard)}"]`);
      if (el) el.textContent = age.toFixed(1);
    }
    status.textContent = "Live: following the stream's open shards.";
  });
  source.addEventListener("failure", (message) => {
    const { type, message: text } = JSON.parse(message.data);
    status.textContent = `${type}: ${text}`;
    status.className = "error";
  });
  // every response ends (the next one is asked for at once): only a closed source is worth saying
  source.onerror = () => { if (source.readyState === EventSource.CLOSED) status.textContent = "Disconnected."; };
}
