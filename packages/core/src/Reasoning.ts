/**
 * One block of the model's reasoning (thinking), as a response returns it, as an assistant message
 * carries it back on the next turn, and as a broken stream's `StreamInterrupted` keeps it; and
 * `append`, the one rule by which streamed `reasoning-delta` parts join into blocks.
 *
 * - `signature`: the provider's proof that the block is its own (Anthropic `signature`, Bedrock
 *   `reasoningText.signature`, Google `thoughtSignature`, OpenRouter's `reasoning.text` signature).
 *   Providers that send one refuse, or silently drop, reasoning given back without it: keep blocks
 *   as they came.
 * - `redactedData`: an encrypted block the provider would not show (Anthropic `redacted_thinking`,
 *   Bedrock `redactedContent`, OpenRouter `reasoning.encrypted`); `text` is empty and the data must
 *   go back unchanged.
 * - `summary`: `text` is a summary of reasoning the provider keeps hidden (OpenRouter
 *   `reasoning.summary`, from OpenAI's reasoning models), not the reasoning itself.
 * - `id` and `format`: the provider's id for the block and the name of the encoding its signature or
 *   data is in (OpenRouter: `anthropic-claude-v1`, `openai-responses-v1`, ...), given back with it so
 *   the provider can route it to the model that made it.
 *
 * A signature belongs to one provider: giving a block back to another provider is at best ignored.
 *
 * @since 0.2.0
 */
import { Schema } from "effect"
import type { ReasoningDelta } from "./StreamPart.ts"

/** @category schemas */
export const Reasoning = Schema.Struct({
  text: Schema.String,
  signature: Schema.optionalKey(Schema.String),
  redactedData: Schema.optionalKey(Schema.String),
  summary: Schema.optionalKey(Schema.Boolean),
  id: Schema.optionalKey(Schema.String),
  format: Schema.optionalKey(Schema.String)
})
export type Reasoning = typeof Reasoning.Type

/** A block is complete once it is signed or redacted: providers sign a block after its text. */
const isClosed = (block: Reasoning): boolean => block.signature !== undefined || block.redactedData !== undefined

const blockOf = ({ type: _type, ...block }: ReasoningDelta): Reasoning => block

/**
 * `blocks` with `delta` added. A delta continues the last block unless that block is complete
 * (signed or redacted), the delta is redacted (a whole block by itself), or it is of another kind
 * (`summary`) or another block (`id`); otherwise it starts a new one. The block keeps the first
 * `id` and `format` its deltas carried. Returns a new array; `blocks` is not changed.
 *
 * @category combinators
 */
export const append = (blocks: ReadonlyArray<Reasoning>, delta: ReasoningDelta): Array<Reasoning> => {
  const last = blocks.at(-1)
  const continues = last !== undefined && !isClosed(last) && delta.redactedData === undefined &&
    (last.summary === true) === (delta.summary === true) &&
    (last.id === undefined || delta.id === undefined || last.id === delta.id)
  if (!continues) return [...blocks, blockOf(delta)]
  const merged: Reasoning = {
    ...last,
    text: last.text + delta.text,
    ...(delta.signature === undefined ? {} : { signature: delta.signature }),
    ...(last.id === undefined && delta.id !== undefined ? { id: delta.id } : {}),
    ...(last.format === undefined && delta.format !== undefined ? { format: delta.format } : {})
  }
  return [...blocks.slice(0, -1), merged]
}

/** The blocks `deltas` make, in order (see `append`). @category constructors */
export const fromDeltas = (deltas: ReadonlyArray<ReasoningDelta>): Array<Reasoning> => {
  let blocks: Array<Reasoning> = []
  for (const delta of deltas) blocks = append(blocks, delta)
  return blocks
}
