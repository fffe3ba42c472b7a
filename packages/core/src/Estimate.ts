/**
 * Token estimates before a request is sent, for `estimateCost` and budget reservations. An
 * `Estimator` counts a request's prompt tokens and a text's tokens for a model; `approximate` is
 * the one that needs no tokenizer: characters / 4 (English text averages about 4 characters per
 * token for current BPE vocabularies), plus 3 tokens of framing per message and 3 for the reply,
 * as OpenAI's chat format counts them. Its stated error is ±50% of the provider's reported prompt
 * tokens (asserted on the recorded fixtures in `flexiai`'s Estimate test, 0-15% off there); code,
 * non-Latin scripts and images count differently (an image counts as 1,000 tokens here), and a
 * model served through a chat template that adds text of its own (Ollama's qwen3: 136 tokens
 * reported for a 14-token request) is undercounted by any estimate made from the request. `flexiai` adds a
 * real tokenizer (`gpt-tokenizer`) for OpenAI models.
 *
 * @since 0.2.0
 */
import { type ChatRequest, textOf } from "./ChatRequest.ts"

/** A prompt's token count and how it was made. @category models */
export interface PromptEstimate {
  readonly tokens: number
  /** `tokenizer:<encoding>` for a real tokenizer, `chars/4` for the approximation. */
  readonly method: string
  /** The relative error the method is held to (0.5: the true count is within ±50%). */
  readonly errorBound: number
}

/** @category models */
export interface Estimator {
  readonly prompt: (request: ChatRequest, model: string) => PromptEstimate
  readonly text: (text: string, model: string) => number
}

/** Tokens added per message by chat framing, and for the reply's start (OpenAI's counting rule). @category constants */
export const perMessageTokens = 3
export const replyPrimingTokens = 3
/** What an image part counts as in the approximation. @category constants */
export const imageTokens = 1000
/**
 * What a file part given as bytes or URL counts as (about a page of a PDF: the page count is not
 * known without parsing it). A `text` file source counts as its text.
 *
 * @category constants
 */
export const fileTokens = 1500

/** The text of everything a request sends: messages (with tool calls), tool definitions, response schema. @category utils */
export const promptText = (
  request: ChatRequest
): { readonly text: ReadonlyArray<string>; readonly images: number; readonly files: number } => {
  const text: Array<string> = []
  let images = 0
  let files = 0
  for (const message of request.messages) {
    text.push(textOf(message))
    if (message.role === "user" && typeof message.content !== "string") {
      for (const part of message.content) {
        if (part.type === "image") images++
        else if (part.type === "file") {
          if (part.source.type === "text") text.push(part.source.text)
          else files++
        }
      }
    }
    if (message.role === "assistant") for (const call of message.toolCalls ?? []) text.push(call.name, call.arguments)
  }
  for (const tool of request.tools ?? []) text.push(tool.name, tool.description ?? "", JSON.stringify(tool.parameters))
  if (request.responseFormat?.type === "json_schema") text.push(JSON.stringify(request.responseFormat.schema))
  return { text, images, files }
}

const charsOver4 = (text: string): number => Math.ceil(text.length / 4)

/** Characters / 4 with chat framing: no tokenizer, ±50% on ordinary text. @category estimators */
export const approximate: Estimator = {
  prompt: (request) => {
    const { files, images, text } = promptText(request)
    let tokens = replyPrimingTokens + request.messages.length * perMessageTokens + images * imageTokens + files * fileTokens
    for (const piece of text) tokens += charsOver4(piece)
    return { tokens, method: "chars/4", errorBound: 0.5 }
  },
  text: (text) => charsOver4(text)
}
