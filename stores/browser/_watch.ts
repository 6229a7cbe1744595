/**
 * `watch` for the IndexedDB adapter: a commit is announced on a `BroadcastChannel` named
 * after the database, which reaches every other adapter over it in this origin (other
 * tabs, workers, and other adapters in the same page), never the announcing one.
 *
 * @module
 */

interface Channel {
  onmessage: ((event: unknown) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
}

type ChannelConstructor = new (name: string) => Channel;

/** The `BroadcastChannel` constructor, when the runtime has one. */
function channelClass(): ChannelConstructor | undefined {
  return (globalThis as unknown as { BroadcastChannel?: ChannelConstructor }).BroadcastChannel;
}

/** The announcing side and the listeners of one adapter. */
export class Watchers {
  readonly #name: string;
  #sender: Channel | undefined;
  readonly #listening: Set<Channel> = new Set();

  /**
   * Creates it.
   *
   * @param database the database name
   */
  constructor(database: string) {
    this.#name = `eventfold-indexeddb:${database}`;
  }

  /** Tells the other adapters over the database that events were committed. */
  announce(): void {
    const Channel = channelClass();
    if (Channel === undefined) return;
    this.#sender ??= new Channel(this.#name);
    this.#sender.postMessage("commit");
  }

  /**
   * Calls `listener` on every commit another adapter announces.
   *
   * @param listener the callback
   * @returns a function that stops it
   */
  watch(listener: () => void): () => void {
    const Channel = channelClass();
    if (Channel === undefined) return () => {};
    const channel = new Channel(this.#name);
    channel.onmessage = () => listener();
    this.#listening.add(channel);
    return () => {
      if (this.#listening.delete(channel)) channel.close();
    };
  }

  /** Closes every channel. */
  close(): void {
    this.#sender?.close();
    this.#sender = undefined;
    for (const channel of this.#listening) channel.close();
    this.#listening.clear();
  }
}
