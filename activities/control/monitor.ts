// Starting a replication set's monitor, run by the orchestrator with its own Temporal client.
// A workflow's startChild of a monitor that already runs fails (WORKFLOW_ALREADY_EXISTS) and
// shows as a failed child in the Web UI on every operation of a monitored set; a client start
// with workflowIdConflictPolicy USE_EXISTING attaches to the running one instead.
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { instanceNameAttribute, monitorWorkflowId, SA_PROJECT, SA_REPLICATION_SET } from '../../lib/names';
import type { WatchSetInput } from '../../lib/schemas';
import { operationMetadata } from '../../lib/summaries';

export interface EnsureMonitorInput {
  setId: string;
  projectId: string;
  /**
   * The source's name, for the monitor's TroveInstanceName in the Web UI's list. Optional: a
   * 0.1.0 createReplicas (replayed, or resumed by this worker) did not pass it.
   */
  sourceName?: string;
}

export interface EnsuredMonitor {
  workflowId: string;
  /** The run that is monitoring the set: the one just started, or the one already running. */
  runId: string;
}

export function createMonitorActivities({ client }: { client: Client }) {
  return {
    /**
     * Every set with replicas has its monitor: starts it unless one is running (that one is
     * left alone); a set whose monitor ended (the set dissolved) gets a new one. It runs on
     * this activity's task queue, the orchestrator's, and is called by an operation that
     * still holds the set's lock, so the monitor waits a poll before its first look.
     */
    async ensureMonitor({ setId, projectId, sourceName }: EnsureMonitorInput): Promise<EnsuredMonitor> {
      const workflowId = monitorWorkflowId(setId);
      const args: [WatchSetInput] = [{ setId, projectId, waitBeforeFirstPoll: true }];
      // 0.2.0: the watch (polling in a heartbeating activity); a set still watched by a
      // 0.1.0 monitorReplicationSet keeps it (same id) until it continues as new into a watch.
      const handle = await client.workflow.start('watchReplicationSet', {
        workflowId,
        taskQueue: Context.current().info.taskQueue,
        args,
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        // Findable in the Web UI from its start (the monitor tags its set itself as well).
        typedSearchAttributes: [
          { key: SA_PROJECT, value: projectId },
          { key: SA_REPLICATION_SET, value: setId },
          ...instanceNameAttribute(sourceName),
        ],
        ...operationMetadata('watchReplicationSet', args[0]),
      });
      return { workflowId, runId: handle.firstExecutionRunId };
    },
  };
}

export type MonitorActivities = ReturnType<typeof createMonitorActivities>;
