// Key Vault events from an Azure Storage Queue that an Event Grid subscription fills. kvsync pulls
// with its own identity (role Storage Queue Data Message Processor on the queue, Message Sender
// on the poison queue), so the cluster needs no inbound endpoint. Messages stay invisible while
// they are processed; a message deleted late or never comes back after the visibility timeout.
// The Storage SDK is loaded on the first call: a kvsync without events never pays for its
// modules (about 2 MiB of heap).
import type { TokenCredential } from '@azure/core-auth';
import type { PipelineOptions } from '@azure/core-rest-pipeline';
import type { QueueClient, StoragePipelineOptions } from '@azure/storage-queue';
import type { EventSource, ReceivedMessage } from './event-source.ts';
import { checkQueueName, parseQueueUrl } from './queue-url.ts';

/**
 * storage-queue hands its options on to core-client's pipeline (Pipeline.js getCoreClientOptions),
 * so core-rest-pipeline's `agent` reaches the HTTP client: tests trust a test CA with it.
 */
export type QueueClientOptions = StoragePipelineOptions & Pick<PipelineOptions, 'agent'>;

export interface StorageQueueSourceOptions {
  /** `https://<account>.queue.core.windows.net/<queue>` (or an emulator's `/<account>/<queue>`). */
  readonly queueUrl: string;
  /** Default `<queue>-poison`, in the same account. */
  readonly poisonQueueName?: string | undefined;
  readonly credential: TokenCredential;
  /** Messages per receive, 1-32 (the service's maximum). Default 32. */
  readonly batchSize?: number;
  /** How long a received message stays invisible before it is handed out again. Default 60 s. */
  readonly visibilityTimeoutSeconds?: number;
  readonly clientOptions?: QueueClientOptions;
}

export class StorageQueueSource implements EventSource {
  readonly kind = 'storage-queue';
  readonly description: string;
  private readonly clients: () => Promise<{ queue: QueueClient; poison: QueueClient }>;
  private readonly batchSize: number;
  private readonly visibilityTimeout: number;
  private readonly popReceipts = new WeakMap<ReceivedMessage, string>();

  constructor(options: StorageQueueSourceOptions) {
    const address = parseQueueUrl(options.queueUrl);
    const poisonName = options.poisonQueueName ?? `${address.queueName}-poison`;
    checkQueueName(poisonName);
    // One quick retry: the event loop has its own backoff and must notice an outage promptly.
    const clientOptions: QueueClientOptions = {
      retryOptions: {
        maxTries: 2,
        retryDelayInMs: 500,
        maxRetryDelayInMs: 2_000,
        tryTimeoutInMs: 30_000,
      },
      ...options.clientOptions,
    };
    let clients: Promise<{ queue: QueueClient; poison: QueueClient }> | undefined;
    this.clients = () =>
      (clients ??= import('@azure/storage-queue').then(({ QueueClient }) => {
        const client = (name: string) =>
          new QueueClient(`${address.serviceUrl}/${name}`, options.credential, clientOptions);
        return { queue: client(address.queueName), poison: client(poisonName) };
      }));
    this.description = `${address.serviceUrl}/${address.queueName}`;
    this.batchSize = Math.min(Math.max(options.batchSize ?? 32, 1), 32);
    this.visibilityTimeout = options.visibilityTimeoutSeconds ?? 60;
  }

  async receive(signal: AbortSignal): Promise<readonly ReceivedMessage[]> {
    const { queue } = await this.clients();
    const response = await queue.receiveMessages({
      numberOfMessages: this.batchSize,
      visibilityTimeout: this.visibilityTimeout,
      abortSignal: signal,
    });
    return response.receivedMessageItems.map((item) => {
      const message: ReceivedMessage = {
        messageId: item.messageId,
        text: item.messageText,
        dequeueCount: item.dequeueCount,
        insertedOn: item.insertedOn,
      };
      this.popReceipts.set(message, item.popReceipt);
      return message;
    });
  }

  async complete(message: ReceivedMessage): Promise<void> {
    const popReceipt = this.popReceipts.get(message);
    if (popReceipt === undefined) throw new Error('complete: not a message this source received');
    const { queue } = await this.clients();
    await queue.deleteMessage(message.messageId, popReceipt);
  }

  /** The text is kept as it came, as Azure Functions' `<queue>-poison` convention does. */
  async deadLetter(message: ReceivedMessage): Promise<void> {
    const { poison } = await this.clients();
    await poison.sendMessage(message.text);
    await this.complete(message);
  }
}
