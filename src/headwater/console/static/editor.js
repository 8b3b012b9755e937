// The item editor's two views: DynamoDB JSON (what the API takes) and plain JSON. Switching converts the
// text in place; numbers keep their exact text. The server reads whichever view is selected when saved.
const form = document.getElementById("editor");
if (form) {
  const text = form.querySelector("textarea[name=item]");
  const note = document.createElement("p");
  note.className = "hint";
  text.after(note);
  let current = form.querySelector("input[name=format]:checked").value;

  const NUM = Symbol("number");
  const parse = (source) =>
    JSON.parse(source, (key, value, context) =>
      typeof value === "number" ? { [NUM]: context && context.source ? context.source : String(value) } : value);

  const toPlain = (v) => {
    const [kind, inner] = Object.entries(v)[0];
    switch (kind) {
      case "N": return { [NUM]: inner };
      case "NS": return inner.map((n) => ({ [NUM]: n }));
      case "L": return inner.map(toPlain);
      case "M": return Object.fromEntries(Object.entries(inner).map(([k, x]) => [k, toPlain(x)]));
      case "NULL": return null;
      default: return inner; // S, B, BOOL, SS, BS
    }
  };
  const toDynamo = (v) => {
    if (v === null) return { NULL: true };
    if (typeof v === "boolean") return { BOOL: v };
    if (typeof v === "string") return { S: v };
    if (v && v[NUM] !== undefined) return { N: v[NUM] };
    if (Array.isArray(v)) return { L: v.map(toDynamo) };
    return { M: Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toDynamo(x)])) };
  };
  const write = (v, indent = "") => {
    const next = indent + "  ";
    if (v === null || typeof v !== "object") return JSON.stringify(v);
    if (v[NUM] !== undefined) return v[NUM];
    if (Array.isArray(v)) return v.length ? "[\n" + v.map((x) => next + write(x, next)).join(",\n") + "\n" + indent + "]" : "[]";
    const keys = Object.keys(v);
    return keys.length ? "{\n" + keys.map((k) => next + JSON.stringify(k) + ": " + write(v[k], next)).join(",\n") + "\n" + indent + "}" : "{}";
  };
  form.addEventListener("change", (event) => {
    if (event.target.name !== "format" || event.target.value === current) return;
    const wanted = event.target.value;
    try {
      const doc = parse(text.value);
      const converted = {};
      for (const [name, value] of Object.entries(doc)) {
        converted[name] = wanted === "plain" ? toPlain(stripNumbers(value)) : toDynamo(value);
      }
      text.value = write(converted);
      note.textContent = "";
      current = wanted;
    } catch (err) {
      note.textContent = "Not converted (" + err.message + "): the text stays as it is.";
      form.querySelector(`input[name=format][value=${current}]`).checked = true;
    }
  });
  // in DynamoDB JSON a number marker can only come from a mistake (N holds a string): keep its text
  const stripNumbers = (v) => {
    if (v && v[NUM] !== undefined) return v[NUM];
    if (Array.isArray(v)) return v.map(stripNumbers);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, stripNumbers(x)]));
    return v;
  };
}
