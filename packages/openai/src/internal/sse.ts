/** The SSE text framer moved to the kit (`@flexiai/provider/Sse`); kept here for the stream decoder's import. */
export { defaultMaxEventSize, makeFramer, type TextFramer as Framer } from "@flexiai/provider/Sse"
