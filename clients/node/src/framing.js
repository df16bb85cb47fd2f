// LSP base-protocol framing ("Content-Length: N\r\n\r\n" + N bytes of UTF-8 JSON),
// done on Buffers. Line readers are unsuitable: readline splits on U+2028/U+2029 and
// a character may straddle two chunks, so lengths are counted in bytes here.

const HEADER_END = Buffer.from('\r\n\r\n', 'ascii');

/** Largest header block accepted before the stream is declared corrupt. */
const MAX_HEADER_BYTES = 8192;

/** Raised when the server's output is not valid LSP framing or JSON; the stream cannot be resynchronised. */
export class ProtocolError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'ProtocolError';
  }
}

/**
 * Serialises one JSON-RPC message into a framed Buffer.
 * JSON.stringify leaves U+2028/U+2029 raw, which is valid JSON; Content-Length counts UTF-8 bytes.
 * @param {unknown} message
 * @returns {Buffer}
 */
export function encodeFrame(message) {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  const header = Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii');
  return Buffer.concat([header, body], header.length + body.length);
}

/**
 * Parses the header block (without the terminating blank line).
 * @param {string} text
 * @returns {number} the Content-Length
 */
export function parseHeaders(text) {
  let length = -1;
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) {
      throw new ProtocolError(`Malformed header line from the server: ${JSON.stringify(line.slice(0, 200))}`);
    }
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') {
      if (!/^[0-9]{1,15}$/.test(value)) {
        throw new ProtocolError(`Invalid Content-Length from the server: ${JSON.stringify(value.slice(0, 50))}`);
      }
      length = Number(value);
    }
  }
  if (length < 0) {
    throw new ProtocolError('The server sent a message header without Content-Length.');
  }
  return length;
}

/**
 * Incremental decoder: feed it chunks in any split, it calls `onMessage` once per complete,
 * parsed JSON body. Body chunks are kept as a list and joined once the frame is complete,
 * so a large message arriving in many pieces costs linear time.
 */
export class FrameDecoder {
  /** @param {(message: unknown) => void} onMessage */
  constructor(onMessage) {
    this.onMessage = onMessage;
    /** @type {Buffer[]} */
    this.chunks = [];
    this.size = 0;
    /** Body length of the frame being read, or -1 while reading headers. */
    this.expected = -1;
  }

  /** Joins buffered chunks into one Buffer (cheap when there is only one). */
  #flatten() {
    if (this.chunks.length > 1) {
      this.chunks = [Buffer.concat(this.chunks, this.size)];
    }
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  #keep(rest) {
    this.chunks = rest.length > 0 ? [rest] : [];
    this.size = rest.length;
  }

  /**
   * @param {Buffer} chunk
   * @throws {ProtocolError} when the stream is not valid framing or a body is not JSON
   */
  push(chunk) {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
    for (;;) {
      if (this.expected < 0) {
        const buffer = this.#flatten();
        const end = buffer.indexOf(HEADER_END);
        if (end < 0) {
          if (buffer.length > MAX_HEADER_BYTES) {
            throw new ProtocolError(`No end of message header within ${MAX_HEADER_BYTES} bytes; is the server speaking NDJSON?`);
          }
          return;
        }
        this.expected = parseHeaders(buffer.subarray(0, end).toString('latin1'));
        this.#keep(buffer.subarray(end + HEADER_END.length));
      } else {
        if (this.size < this.expected) return;
        const buffer = this.#flatten();
        const body = buffer.subarray(0, this.expected);
        this.#keep(buffer.subarray(this.expected));
        this.expected = -1;
        let message;
        try {
          message = JSON.parse(body.toString('utf8'));
        } catch (error) {
          throw new ProtocolError(`The server sent a body that is not JSON: ${error.message}`, { cause: error });
        }
        this.onMessage(message);
      }
    }
  }

  /** Bytes received but not yet part of a complete message. */
  get pendingBytes() {
    return this.size;
  }
}
