// The codec interface lives in the protocol layer so extensions can implement it without
// importing the transport; re-exported here for the transport's users.
export type { CodecError, MessageCodec } from "../protocol/codec.js";
