// What every workflow test file needs: a Temporal dev server, the workflow bundle (made
// once per file), a worker connection, and a way to read a workflow's failure.
import { WorkflowFailedError } from '@temporalio/client';
import type { ApplicationFailure, DataConverter } from '@temporalio/common';
import { NativeConnection, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { payloadDataConverter } from '../../lib/payload-codec';
import { bundleWorkflows, installQuietRuntime } from './runtime';
import { startTestStack, type TestStack } from './stack';

export interface WorkflowEnv {
  env: TestStack;
  bundle: WorkflowBundleWithSourceMap;
  connection: NativeConnection;
  /** The stack's payload encryption, which the fake workers share with its client. */
  dataConverter?: DataConverter;
}

/** Registers beforeAll/afterAll; the returned object is filled in before the tests run. */
export function useWorkflowEnv(): WorkflowEnv {
  const ctx = {} as WorkflowEnv;
  beforeAll(async () => {
    installQuietRuntime();
    [ctx.env, ctx.bundle] = await Promise.all([startTestStack({ parts: ['temporal'] }), bundleWorkflows()]);
    ctx.connection = await NativeConnection.connect({ address: ctx.env.stack.env.TEMPORAL_ADDRESS });
    ctx.dataConverter = payloadDataConverter(ctx.env.stack.env);
  });
  afterAll(async () => {
    await ctx.connection?.close();
    await ctx.env?.stop();
  });
  return ctx;
}

/** The ApplicationFailure a workflow ended with (the test fails if it did not fail). */
export async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  return (err as WorkflowFailedError).cause as ApplicationFailure;
}
