/**
 * Real token counts for OpenAI models, from `gpt-tokenizer` (a pure-JS port of OpenAI's BPE
 * encodings), behind `effect/ai`'s `Tokenizer` interface (`tokenizer(model)`) and as the
 * `Estimate.Estimator` metering uses (`estimator`): `o200k_base` for the GPT-4o, GPT-4.1, GPT-5 and
 * o-series families, `cl100k_base` for GPT-4 and GPT-3.5; every other model falls back to
 * `@flexiai/core/Estimate.approximate` (characters / 4).
 *
 * A chat prompt is counted as OpenAI's chat format counts it: the tokens of each message's text,
 * 3 per message and 3 for the reply. Tool definitions and JSON schemas are counted as their JSON
 * text, which OpenAI renders differently, so prompts with tools or tool calls are less exact; images
 * count 1,000 tokens. The stated `errorBound` is 10%, 25% for a prompt with tools or tool calls;
 * on the recorded fixtures the counts were 0-7% off without tools and 9% and 19% off with them
 * (under: OpenAI adds framing for tools), see `test/Estimate.test.ts`. `gpt-oss` served by Ollama
 * gets the approximation: its chat template adds text no request shows.
 *
 * @since 0.2.0
 */
import * as Estimate from "@flexiai/core/Estimate"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import { Effect } from "effect"
import { type Prompt, Tokenizer } from "effect/ai"
import * as cl100k from "gpt-tokenizer/encoding/cl100k_base"
import * as o200k from "gpt-tokenizer/encoding/o200k_base"

/** The BPE encoding an OpenAI model uses, or `undefined` for a model not known to be OpenAI's. @category encodings */
export const encodingOf = (model: string): "o200k_base" | "cl100k_base" | undefined => {
  const id = model.toLowerCase().replace(/^(?:openai\/|azure\/)/, "")
  if (/^(?:gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o1|o3|o4|chatgpt-4o)/.test(id)) return "o200k_base"
  if (/^(?:gpt-4|gpt-3\.5)/.test(id)) return "cl100k_base"
  return undefined
}

const encoders = { o200k_base: o200k.encode, cl100k_base: cl100k.encode } as const

/** The text of an `effect/ai` prompt's messages, one entry per message. */
const promptTexts = (prompt: Prompt.Prompt): ReadonlyArray<string> =>
  prompt.content.map((message) =>
    typeof message.content === "string"
      ? message.content
      : message.content.map((part) => ("text" in part && typeof part.text === "string" ? part.text : "")).join("")
  )

/**
 * An `effect/ai` `Tokenizer` for an OpenAI model (`undefined` for other models): `tokenize` gives
 * the token ids of the prompt's message texts, framing tokens not included; `truncate` keeps the
 * newest messages that fit (Effect's own rule).
 *
 * @category tokenizers
 */
export const tokenizer = (model: string): Tokenizer.Service | undefined => {
  const encoding = encodingOf(model)
  if (encoding === undefined) return undefined
  const encode = encoders[encoding]
  return Tokenizer.make({ tokenize: (prompt) => Effect.succeed(promptTexts(prompt).flatMap((text) => encode(text))) })
}

/**
 * Counts with the model's tokenizer where it has one, else `Estimate.approximate`.
 *
 * @category estimators
 */
export const estimator: Estimate.Estimator = {
  prompt: (request: ChatRequest.ChatRequest, model: string) => {
    const encoding = encodingOf(model)
    if (encoding === undefined) return Estimate.approximate.prompt(request, model)
    const encode = encoders[encoding]
    const { files, images, text } = Estimate.promptText(request)
    let tokens = Estimate.replyPrimingTokens + request.messages.length * Estimate.perMessageTokens + images * Estimate.imageTokens +
      files * Estimate.fileTokens
    for (const piece of text) tokens += encode(piece).length
    // tool definitions and tool calls are rendered by OpenAI in a format of its own: looser there
    const withTools = (request.tools?.length ?? 0) > 0 ||
      request.messages.some((message) => message.role === "tool" || (message.role === "assistant" && (message.toolCalls?.length ?? 0) > 0))
    return { tokens, method: `tokenizer:${encoding}`, errorBound: withTools ? 0.25 : 0.1 }
  },
  text: (text, model) => {
    const encoding = encodingOf(model)
    return encoding === undefined ? Estimate.approximate.text(text, model) : encoders[encoding](text).length
  }
}
