import { assert, describe, it } from "@effect/vitest"
import { Reasoning } from "@flexiai/core"
import type { StreamPart } from "@flexiai/core"

const delta = (text: string, extra: Partial<StreamPart.ReasoningDelta> = {}): StreamPart.ReasoningDelta => ({
  type: "reasoning-delta",
  text,
  ...extra
})

describe("Reasoning.append", () => {
  it("joins deltas into a block until the one that carries its signature; the next starts a new block", () => {
    const blocks = Reasoning.fromDeltas([
      delta("The user", { format: "anthropic-claude-v1" }),
      delta(" asks.", { format: "anthropic-claude-v1" }),
      delta("", { signature: "sig-1" }),
      delta("Then "),
      delta("more.")
    ])
    assert.deepStrictEqual(blocks, [
      { text: "The user asks.", format: "anthropic-claude-v1", signature: "sig-1" },
      { text: "Then more." }
    ])
  })

  it("a redacted delta is a block by itself; a summary or another id does not continue a text block", () => {
    const blocks = Reasoning.fromDeltas([
      delta("thinking"),
      delta("", { redactedData: "b64" }),
      delta("next"),
      delta("a summary", { summary: true, id: "rs_1" }),
      delta("other", { summary: true, id: "rs_2" }),
      delta(" block", { id: "rs_2", summary: true })
    ])
    assert.deepStrictEqual(blocks, [
      { text: "thinking" },
      { text: "", redactedData: "b64" },
      { text: "next" },
      { text: "a summary", summary: true, id: "rs_1" },
      { text: "other block", summary: true, id: "rs_2" }
    ])
  })

  it("does not change the blocks it is given", () => {
    const before = [{ text: "a" }]
    const after = Reasoning.append(before, delta("b"))
    assert.deepStrictEqual(before, [{ text: "a" }])
    assert.deepStrictEqual(after, [{ text: "ab" }])
  })
})
