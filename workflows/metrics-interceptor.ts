// Each workflow's end, reported to the worker's metrics through a sink: a sink call is not
// a command and is not made again on replay, so this adds nothing to any history (released
// ones replay unchanged) and counts each execution's end once.
import { ContinueAsNew, isCancellation, proxySinks, workflowInfo, type Sinks, type WorkflowInterceptorsFactory } from '@temporalio/workflow';

export interface MetricsSinks extends Sinks {
  metrics: {
    /** seconds: from the start of the workflow (the first run of a continued chain). */
    workflowEnded(type: string, outcome: 'completed' | 'failed' | 'cancelled' | 'continued', seconds: number): void;
  };
}

const { metrics } = proxySinks<MetricsSinks>();

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      async execute(input, next) {
        const ended = (outcome: 'completed' | 'failed' | 'cancelled' | 'continued') =>
          metrics.workflowEnded(workflowInfo().workflowType, outcome, (Date.now() - workflowInfo().startTime.getTime()) / 1000);
        try {
          const result = await next(input);
          ended('completed');
          return result;
        } catch (err) {
          ended(err instanceof ContinueAsNew ? 'continued' : isCancellation(err) ? 'cancelled' : 'failed');
          throw err;
        }
      },
    },
  ],
});
