/**
 * @flexiai/bedrock: Amazon Bedrock Converse and ConverseStream on the provider kit, signed with
 * `@smithy/signature-v4` and framed with `@smithy/eventstream-codec`.
 *
 * @since 0.2.0
 */
export * as BedrockChat from "./BedrockChat.ts"
export * as BedrockClient from "./BedrockClient.ts"
export * as BedrockCodec from "./BedrockCodec.ts"
export * as BedrockCredentials from "./BedrockCredentials.ts"
export * as BedrockKind from "./BedrockKind.ts"
export * as BedrockSchema from "./BedrockSchema.ts"
export * as BedrockSigner from "./BedrockSigner.ts"
export * as BedrockStream from "./BedrockStream.ts"
