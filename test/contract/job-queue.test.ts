// The deploy queue contract on the local mode's SQLite queue and on the SQS FIFO queue over moto.
import { SqsJobQueue } from '../../functions/adapters/aws/sqs-job-queue.ts';
import { SqliteJobQueue } from '../../functions/adapters/local/sqlite-job-queue.ts';
import { parseDeployJob } from '../../functions/core/model/job.ts';
import { openDeployQueue, openStateDatabase } from './adapters.ts';
import { jobQueueContract } from './job-queue.ts';

jobQueueContract('SQLite', async () => {
  const { db, close } = await openStateDatabase();
  const queue = new SqliteJobQueue(db);
  return {
    queue,
    receive: async () => {
      const claimed = queue.claim();
      if (claimed === undefined) return undefined;
      return { group: claimed.group, job: claimed.job, ack: async () => queue.complete(claimed.id) };
    },
    close,
  };
});

jobQueueContract(
  'SQS FIFO on moto',
  async () => {
    const sqs = await openDeployQueue();
    return {
      queue: new SqsJobQueue(sqs.queueUrl, sqs.sqs),
      receive: async () => {
        const [message] = await sqs.receive(1);
        if (message === undefined) return undefined;
        const job = parseDeployJob(message.Body ?? '');
        if (job === undefined) throw new Error(`not a deploy job: ${message.Body}`);
        return { group: message.Attributes?.MessageGroupId ?? '', job, ack: () => sqs.delete(message) };
      },
      close: sqs.close,
    };
  },
  {
    // SQS FIFO keeps a deduplication id for five minutes after its message was sent, deleted or not; moto compares
    // it only with the messages still in the queue. The SQLite queue keeps the window as SQS does.
    forgetsDeletedMessages:
      'moto deduplicates against queued messages only, not over the window after deletion',
  },
);
