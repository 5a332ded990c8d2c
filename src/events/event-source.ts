// The one seam between kvsync and a transport that delivers Key Vault events at least once. A
// Storage Queue implements it today; Event Grid namespace pull delivery maps onto it as well
// (receive, acknowledge = complete, reject = deadLetter).

export interface ReceivedMessage {
  /** The transport's message id (not the event's id: one event may be re-sent as a new message). */
  readonly messageId: string;
  readonly text: string;
  /** How many times this message has been handed out, this delivery included. */
  readonly dequeueCount: number;
  /** When the message entered the transport, if it says. */
  readonly insertedOn: Date | undefined;
}

export interface EventSource {
  /** For logs and metrics, e.g. `storage-queue`. */
  readonly kind: string;
  /** A human-readable address without credentials, e.g. the queue URL. */
  readonly description: string;
  /**
   * A batch of messages, possibly empty; each stays invisible to other receivers until completed
   * or until the transport's lock expires. Throws when the transport cannot be reached.
   */
  receive(signal: AbortSignal): Promise<readonly ReceivedMessage[]>;
  /** Done with: the transport forgets it. */
  complete(message: ReceivedMessage): Promise<void>;
  /** Moved aside (poison queue, dead letter) so it is never delivered again, then completed. */
  deadLetter(message: ReceivedMessage): Promise<void>;
}
