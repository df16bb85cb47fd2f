// Keeps the last lines of the server's stderr so errors can show why it died, while
// draining the pipe continuously (an undrained stderr pipe blocks the server once it fills).

/** Bounded ring of recent stderr lines; a line without a newline is capped so noise cannot grow memory. */
export class StderrTail {
  /**
   * @param {number} [maxLines]
   * @param {number} [maxLineBytes]
   */
  constructor(maxLines = 50, maxLineBytes = 2000) {
    this.maxLines = maxLines;
    this.maxLineBytes = maxLineBytes;
    /** @type {string[]} */
    this.lines = [];
    /** @type {Buffer[]} */
    this.partial = [];
    this.partialSize = 0;
  }

  /**
   * @param {Buffer} chunk
   * @param {(line: string) => void} [onLine]
   */
  push(chunk, onLine) {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      const piece = chunk.subarray(start, newline < 0 ? chunk.length : newline);
      if (this.partialSize < this.maxLineBytes) {
        const room = this.maxLineBytes - this.partialSize;
        const kept = piece.subarray(0, room);
        this.partial.push(kept);
        this.partialSize += kept.length;
      }
      if (newline < 0) return;
      this.#finishLine(onLine);
      start = newline + 1;
    }
  }

  #finishLine(onLine) {
    const line = Buffer.concat(this.partial, this.partialSize).toString('utf8').replace(/\r$/, '');
    this.partial = [];
    this.partialSize = 0;
    this.lines.push(line);
    if (this.lines.length > this.maxLines) this.lines.splice(0, this.lines.length - this.maxLines);
    onLine?.(line);
  }

  /** The kept lines plus any unterminated last line. */
  snapshot() {
    if (this.partialSize === 0) return [...this.lines];
    return [...this.lines, Buffer.concat(this.partial, this.partialSize).toString('utf8')].slice(-this.maxLines);
  }
}
