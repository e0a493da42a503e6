import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parsePrometheusText, sampleValue } from "./prom-text.js";

const GOOD = `# HELP a_total Things.
# TYPE a_total counter
a_total{x="1",y="q\\"uote\\\\ and \\n"} 3
a_total{x="2"} 1e3
# HELP h Durations.
# TYPE h histogram
h_bucket{step="s",le="0.1"} 1
h_bucket{step="s",le="1"} 2
h_bucket{step="s",le="+Inf"} 2
h_sum{step="s"} 0.7
h_count{step="s"} 2
`;

describe("the Prometheus text reader used by the metrics tests", () => {
  it("reads families, types, escaped label values and histogram series", () => {
    const families = parsePrometheusText(GOOD);
    assert.equal(families.get("a_total")?.type, "counter");
    assert.equal(sampleValue(families, "a_total", { y: 'q"uote\\ and \n' }), 3);
    assert.equal(sampleValue(families, "a_total", { x: "2" }), 1000);
    assert.equal(sampleValue(families, "h_count", { step: "s" }), 2);
  });

  for (const [what, text] of [
    ["a bad metric name", "1abc 1\n"],
    ["a bad label name", 'a{1x="1"} 1\n'],
    ["an unknown escape", 'a{x="\\t"} 1\n'],
    ["an unquoted label value", "a{x=1} 1\n"],
    ["a value that is not a float", "a 1,5\n"],
    ["a missing final newline", "a 1"],
    ["a TYPE after the samples", "a 1\n# TYPE a gauge\n"],
    ["the same series twice", 'a{x="1"} 1\na{x="1"} 2\n'],
    ["a family split apart", 'a 1\nb 1\na{x="2"} 1\n'],
    ["a histogram without +Inf", GOOD.replace('h_bucket{step="s",le="+Inf"} 2\n', "")],
    [
      "a histogram whose +Inf bucket is not _count",
      GOOD.replace('h_count{step="s"} 2', 'h_count{step="s"} 3'),
    ],
    ["buckets that are not cumulative", GOOD.replace('le="1"} 2', 'le="1"} 0')],
    ["a histogram without _sum", GOOD.replace('h_sum{step="s"} 0.7\n', "")],
  ] as const) {
    it(`refuses ${what}`, () => {
      assert.throws(() => parsePrometheusText(text));
    });
  }
});
