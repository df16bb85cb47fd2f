// Public entry point of the `hyperstack-rpc` Node client.
export { HyperstackClient, startClient } from './src/client.js';
export {
  RpcError, ERROR_CLASSES,
  ParseError, InvalidRequest, MethodNotFound, InvalidParams, InternalError, RequestCancelled, ServerBusy,
  UpstreamRejected, Unauthorized, Forbidden, NotFound, Conflict, RateLimited,
  UpstreamError, BadUpstreamResponse, UpstreamUnavailable, OutcomeUnknown, SecretNotWritten,
  AbortError, TimeoutError, ServerDiedError, ClientClosedError,
} from './src/errors.js';
export { ProtocolError, FrameDecoder, encodeFrame } from './src/framing.js';
