// The parser of docs/storage-schema.md and its comparison with snapshots
// (workers/smcp/test/storage-doc.ts): the real doc parses into one section per class,
// malformed rows are refused with their line, and each kind of drift is reported.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseStorageDoc, storageProblems, type Snapshot } from "../../workers/smcp/test/storage-doc";

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

const SAMPLE = `# Sample

## ThingDO — a class

| key | lifetime | value |
|---|---|---|
| \`schemaVersion\` | kept | steps applied |
| \`meta\` | kept | \`{ id, owner?, nested: { a, b } }\`, the record |
| \`window\` | transient | open while a window is |
| \`oldTotal\` | legacy | older objects only |
| \`item:{id}\` | kept | one per item |

| table | primary key | columns | notes |
|---|---|---|---|
| \`things\` | \`server, id\` | \`server TEXT, id TEXT, value TEXT (JSON, at most 4 KB), kind TEXT ('a' \\| 'b')\` | notes, with a \\| pipe |

| index | table | columns |
|---|---|---|
| \`things_by_kind\` | \`things\` | \`kind, id\` |

| trigger | table | refuses |
|---|---|---|
| \`things_are_immutable\` | \`things\` | every UPDATE |
`;

const sql = {
  tables: [
    {
      name: "things",
      columns: [
        { name: "server", type: "TEXT", pk: 1 },
        { name: "id", type: "TEXT", pk: 2 },
        { name: "value", type: "TEXT", pk: 0 },
        { name: "kind", type: "TEXT", pk: 0 },
      ],
    },
  ],
  indexes: [{ name: "things_by_kind", table: "things", columns: ["kind", "id"] }],
  triggers: [{ name: "things_are_immutable", table: "things" }],
};

const agreeing: Snapshot[] = [
  { label: "settled", phase: "settled", kv: { schemaVersion: 1, meta: { id: "x", owner: "o", nested: { a: 1, b: 2 } }, "item:1": 1 }, sql },
  { label: "open", phase: "transient", kv: { schemaVersion: 1, meta: { id: "y", nested: { a: 1, b: null } }, window: 5 }, sql },
];

describe("docs/storage-schema.md parser", () => {
  it("platform:migrations — the real doc has a section for every Durable Object class of wrangler.jsonc and for OAUTH_KV", () => {
    const text = read("docs/storage-schema.md");
    const doc = parseStorageDoc(text);
    const classes = [...read("wrangler.jsonc").matchAll(/"class_name":\s*"([A-Za-z]+)"/g)].map((m) => m[1]!);
    expect(classes).toHaveLength(8);
    // A class that keeps no key and no table (an alarm at most) has a section without tables, which the parser leaves out.
    const storesNothing = ["UpstreamPrincipalDO"];
    for (const name of storesNothing) {
      expect(text, name).toMatch(new RegExp(`^## ${name} — `, "m"));
      expect(doc.has(name), name).toBe(false);
    }
    expect([...doc.keys(), ...storesNothing].sort()).toEqual([...classes, "OAUTH_KV"].sort());
    for (const name of classes.filter((c) => !storesNothing.includes(c))) {
      expect(doc.get(name)!.kv.map((k) => k.name), name).toContain("schemaVersion");
      expect(doc.get(name)!.tables.length, name).toBeGreaterThan(0);
    }
  });

  it("platform:migrations — rows parse into keys (patterns, lifetimes, fields), tables (primary keys, typed columns), indexes and triggers", () => {
    const thing = parseStorageDoc(SAMPLE).get("ThingDO")!;
    expect(thing.kv.map((k) => [k.name, k.lifetime, k.fields])).toEqual([
      ["schemaVersion", "kept", null],
      [
        "meta",
        "kept",
        [
          { name: "id", optional: false },
          { name: "owner", optional: true },
          {
            name: "nested",
            optional: false,
            fields: [
              { name: "a", optional: false },
              { name: "b", optional: false },
            ],
          },
        ],
      ],
      ["window", "transient", null],
      ["oldTotal", "legacy", null],
      ["item:{id}", "kept", null],
    ]);
    expect(thing.kv[4]!.pattern.test("item:abc")).toBe(true);
    expect(thing.kv[4]!.pattern.test("item:")).toBe(false);
    expect(thing.tables).toEqual([
      {
        name: "things",
        primaryKey: ["server", "id"],
        columns: [
          { name: "server", type: "TEXT" },
          { name: "id", type: "TEXT" },
          { name: "value", type: "TEXT" },
          { name: "kind", type: "TEXT" },
        ],
      },
    ]);
    expect(thing.indexes).toEqual([{ name: "things_by_kind", table: "things", columns: ["kind", "id"] }]);
    expect(thing.triggers).toEqual([{ name: "things_are_immutable", table: "things" }]);
    expect(storageProblems(thing, agreeing)).toEqual([]);
  });

  it("platform:migrations — a malformed row is refused with its line", () => {
    expect(() => parseStorageDoc(SAMPLE.replace("| kept | steps applied", "| forever | steps applied"))).toThrow(
      /^line 7 \(ThingDO\): lifetime of schemaVersion must be one of kept, transient, legacy, not "forever"$/,
    );
    expect(() => parseStorageDoc(SAMPLE.replace("value TEXT (JSON", "value (JSON"))).toThrow(/^line 15 \(ThingDO\): column "value \(JSON, at most 4 KB\)" of things must be "name TYPE …"/);
    expect(() => parseStorageDoc(SAMPLE.replace("| key | lifetime | value |", "| key | value |"))).toThrow(/^line 5: a key table's headers must start with \| key \| lifetime \| value \|/);
    expect(() => parseStorageDoc(SAMPLE.replace("| `things_by_kind` |", "| things_by_kind |"))).toThrow(/^line 19 \(ThingDO\): "things_by_kind" must be a name in backticks$/);
    expect(() => parseStorageDoc(SAMPLE.replace("| `window` |", "| `meta` |"))).toThrow(/^line 9 \(ThingDO\): key meta is listed twice$/);
  });

  it("platform:migrations — every kind of drift between the doc and the objects is one problem naming it", () => {
    const thing = parseStorageDoc(SAMPLE).get("ThingDO")!;
    const drifted: Snapshot[] = [
      {
        label: "settled",
        phase: "settled",
        kv: { schemaVersion: 1, meta: { id: "x", extra: 1, nested: { a: 1, c: 2 } }, window: 1, oldTotal: 3, surprise: true },
        sql: {
          tables: [
            {
              name: "things",
              columns: [
                { name: "server", type: "TEXT", pk: 1 },
                { name: "id", type: "INTEGER", pk: 0 },
                { name: "kind", type: "TEXT", pk: 0 },
                { name: "added", type: "TEXT", pk: 0 },
              ],
            },
            { name: "stray", columns: [{ name: "x", type: "TEXT", pk: 0 }] },
          ],
          indexes: [{ name: "things_by_kind", table: "things", columns: ["kind"] }, { name: "stray_by_x", table: "stray", columns: ["x"] }],
          triggers: [],
        },
      },
      { label: "state", phase: "transient", kv: { meta: "text" }, sql: { tables: [], indexes: [], triggers: [] } },
    ];
    expect(storageProblems(thing, drifted)).toEqual([
      'ThingDO: KV key "surprise" is not in the doc (seen in: settled)',
      'ThingDO: KV key "meta" is documented as a record but holds "text" (state, meta)',
      'ThingDO: KV key "meta": field "extra" is not in the doc (settled, meta)',
      'ThingDO: KV key "meta": optional field "owner" was in no record',
      'ThingDO: KV key "meta".nested: field "c" is not in the doc (settled, meta)',
      'ThingDO: KV key "meta".nested: field "b" is missing (settled, meta); mark it "b?" if it may be absent',
      'ThingDO: KV key "window" (transient) is in the doc but was not seen in its state',
      'ThingDO: KV key "window" is documented as transient but stays (seen in: settled)',
      'ThingDO: KV key "oldTotal" is documented as legacy but today\'s code writes it (seen in: settled)',
      'ThingDO: KV key "item:{id}" (kept) is in the doc but in no object after the features ran',
      'ThingDO: column "things.id" is INTEGER, the doc says TEXT',
      'ThingDO: column "things.added" (TEXT) is not in the doc',
      'ThingDO: column "things.value" is in the doc but not in the table',
      'ThingDO: the primary key of "things" is (server), the doc says (server, id)',
      'ThingDO: table "stray" is not in the doc',
      'ThingDO: index "things_by_kind" is on things (kind), the doc says things (kind, id)',
      'ThingDO: index "stray_by_x" on stray (x) is not in the doc',
      'ThingDO: trigger "things_are_immutable" is in the doc but in no object after the features ran',
    ]);
  });
});
