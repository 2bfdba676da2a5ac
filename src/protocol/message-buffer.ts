import { Buffer } from "node:buffer";
import { appended, sharedEmpty } from "./empty.js";

/** Pieces smaller than this are copied together instead of kept as separate slices. */
const SMALL_PIECE = 4096;
const BLOCK_SIZE = 16 * 1024;

/**
 * Collects the payload pieces of one message. Large pieces are kept as they arrived (no
 * copy); small ones are packed into shared blocks, so a peer that sends a message as
 * millions of one-byte fragments costs memory in proportion to the bytes, not to the
 * number of Buffer objects (each slice alone costs about a hundred bytes of heap).
 */
export class MessageBuffer {
  /** A message that arrived as one piece is handed over as it is: the common, zero-copy case. */
  private only: Buffer | null = null;
  private pieces: Buffer[] = sharedEmpty();
  private block: Buffer | null = null;
  private blockUsed = 0;
  private total = 0;

  get length(): number {
    return this.total;
  }

  append(piece: Buffer): void {
    if (this.total === 0 && this.only === null && this.pieces.length === 0 && this.block === null) {
      this.only = piece;
      this.total = piece.length;
      return;
    }
    if (this.only !== null) {
      const first = this.only;
      this.only = null;
      this.total = 0;
      this.addPiece(first);
    }
    this.addPiece(piece);
  }

  private addPiece(piece: Buffer): void {
    this.total += piece.length;
    // Pieces that are consecutive views of one buffer (a large frame the parser assembled)
    // are joined as a view, so `take()` has nothing to copy.
    const last = this.block === null ? this.pieces[this.pieces.length - 1] : undefined;
    if (last !== undefined && last.buffer === piece.buffer && last.byteOffset + last.length === piece.byteOffset) {
      this.pieces[this.pieces.length - 1] = Buffer.from(last.buffer, last.byteOffset, last.length + piece.length);
      return;
    }
    if (piece.length >= SMALL_PIECE) {
      this.sealBlock();
      this.pieces = appended(this.pieces, piece);
      return;
    }
    if (this.block === null || this.blockUsed + piece.length > this.block.length) {
      this.sealBlock();
      this.block = Buffer.allocUnsafe(BLOCK_SIZE);
      this.blockUsed = 0;
    }
    this.block.set(piece, this.blockUsed);
    this.blockUsed += piece.length;
  }

  /** The whole message, and the buffer is empty again. */
  take(): Buffer {
    let result: Buffer;
    if (this.only !== null) {
      result = this.only;
    } else if (this.pieces.length === 0 && this.block !== null) {
      // A small message: copy it out rather than pin the whole 16 KiB block.
      result = Buffer.from(this.block.subarray(0, this.blockUsed));
    } else {
      this.sealBlock();
      result = this.pieces.length === 0 ? Buffer.alloc(0) : this.pieces.length === 1 ? this.pieces[0]! : Buffer.concat(this.pieces, this.total);
    }
    this.clear();
    return result;
  }

  clear(): void {
    this.only = null;
    this.pieces = sharedEmpty();
    this.block = null;
    this.blockUsed = 0;
    this.total = 0;
  }

  private sealBlock(): void {
    if (this.block !== null && this.blockUsed > 0) this.pieces = appended(this.pieces, this.block.subarray(0, this.blockUsed));
    this.block = null;
    this.blockUsed = 0;
  }
}
