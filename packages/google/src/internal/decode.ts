/**
 * Decoding of Gemini answers: `JSON.parse` and a check of the shape of the few fields FlexiAI
 * reads, instead of a Schema decode. A stream event is decoded once per chunk (the hot path of a
 * stream), and a Schema decode of the whole response object cost several times the parse; the
 * checks below refuse exactly what would break the mapping (a `candidates` that is not a list,
 * a part that is not an object), and leave everything else lenient.
 */
import type * as GoogleSchema from "../GoogleSchema.ts"

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const optionalArray = (value: unknown): boolean => value === undefined || value === null || Array.isArray(value)
const optionalRecord = (value: unknown): boolean => value === undefined || value === null || isRecord(value)

const validCandidate = (candidate: unknown): boolean => {
  if (!isRecord(candidate)) return false
  const content = candidate.content
  if (!optionalRecord(content)) return false
  const parts = isRecord(content) ? content.parts : undefined
  if (!optionalArray(parts)) return false
  if (Array.isArray(parts)) for (const part of parts) if (!isRecord(part)) return false
  return (candidate.finishReason === undefined || typeof candidate.finishReason === "string") &&
    optionalArray(candidate.safetyRatings)
}

/** A response body or stream event, or `undefined` when it is not one. */
export const parseResponse = (text: string): GoogleSchema.GenerateContentResponse | undefined => {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return undefined
  }
  if (!isRecord(parsed)) return undefined
  const candidates = parsed.candidates
  if (!optionalArray(candidates)) return undefined
  if (Array.isArray(candidates)) for (const candidate of candidates) if (!validCandidate(candidate)) return undefined
  if (!optionalRecord(parsed.usageMetadata) || !optionalRecord(parsed.promptFeedback) || !optionalRecord(parsed.error)) return undefined
  return parsed as GoogleSchema.GenerateContentResponse
}

/** The model list, or `undefined`. */
export const parseModelList = (text: string): GoogleSchema.ModelList | undefined => {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return undefined
  }
  return isRecord(parsed) && optionalArray(parsed.models) ? parsed as GoogleSchema.ModelList : undefined
}

/** A number the usage metadata carries, or `undefined`. */
export const count = (value: unknown): number | undefined =>
  typeof value === "number" && Number.isFinite(value) && value >= 0 ? Math.trunc(value) : undefined
