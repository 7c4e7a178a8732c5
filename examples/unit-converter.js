// A pure tenant server for SMCP: converts between units. No storage, no network.
// Deploy: curl -X PUT "$SMCP_URL/admin/v1/tenants/$T/servers/units/deployments" \
//           -H "Authorization: Bearer $SMCP_ADMIN_TOKEN" -H "Content-Type: application/javascript" \
//           --data-binary @examples/unit-converter.js

/** Factors to the base unit of each dimension (metre, kilogram, second). */
const UNITS = {
  length: { m: 1, km: 1000, cm: 0.01, mm: 0.001, mi: 1609.344, yd: 0.9144, ft: 0.3048, in: 0.0254 },
  mass: { kg: 1, g: 0.001, mg: 1e-6, t: 1000, lb: 0.45359237, oz: 0.028349523125 },
  time: { s: 1, ms: 0.001, min: 60, h: 3600, d: 86400 },
};

const TEMPERATURE = {
  c: { toK: (v) => v + 273.15, fromK: (k) => k - 273.15 },
  f: { toK: (v) => ((v - 32) * 5) / 9 + 273.15, fromK: (k) => ((k - 273.15) * 9) / 5 + 32 },
  k: { toK: (v) => v, fromK: (k) => k },
};

function dimensionOf(unit) {
  if (unit in TEMPERATURE) return "temperature";
  return Object.keys(UNITS).find((d) => unit in UNITS[d]);
}

function convert(value, from, to) {
  const a = dimensionOf(from);
  const b = dimensionOf(to);
  if (!a) throw new Error(`Unknown unit "${from}"`);
  if (!b) throw new Error(`Unknown unit "${to}"`);
  if (a !== b) throw new Error(`Cannot convert ${a} (${from}) to ${b} (${to})`);
  if (a === "temperature") return TEMPERATURE[to].fromK(TEMPERATURE[from].toK(value));
  return (value * UNITS[a][from]) / UNITS[a][to];
}

const allUnits = () => ({ ...Object.fromEntries(Object.entries(UNITS).map(([d, u]) => [d, Object.keys(u)])), temperature: Object.keys(TEMPERATURE) });

export default {
  tools: [
    {
      name: "convert",
      title: "Convert units",
      description: "Convert a value between units of length, mass, time or temperature (c, f, k).",
      inputSchema: {
        type: "object",
        properties: {
          value: { type: "number" },
          from: { type: "string", description: "unit to convert from, e.g. km" },
          to: { type: "string", description: "unit to convert to, e.g. mi" },
        },
        required: ["value", "from", "to"],
        additionalProperties: false,
      },
      handler({ value, from, to }) {
        const result = Math.round(convert(value, from.toLowerCase(), to.toLowerCase()) * 1e9) / 1e9;
        return { content: [{ type: "text", text: `${value} ${from} = ${result} ${to}` }], structuredContent: { value: result, unit: to } };
      },
    },
    {
      name: "list_units",
      description: "List the units this server knows, by dimension.",
      inputSchema: { type: "object", properties: {} },
      handler: () => allUnits(),
    },
  ],
  resources: [
    {
      uri: "units://table",
      name: "units",
      title: "Unit table",
      mimeType: "application/json",
      read: () => JSON.stringify(allUnits(), null, 2),
    },
  ],
  prompts: [
    {
      name: "explain_conversion",
      description: "Ask the model to explain a conversion step by step.",
      arguments: [
        { name: "from", required: true },
        { name: "to", required: true },
      ],
      get: ({ from, to }) => `Explain step by step how to convert a value from ${from} to ${to}.`,
    },
  ],
};
