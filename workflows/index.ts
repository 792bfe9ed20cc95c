// Every workflow type the orchestrator worker runs (the bundle's entry point).
export { provisionInstance } from './provision-instance';
export { deleteInstance } from './delete-instance';
export { createReplicas } from './create-replicas';
export { buildReplica } from './build-replica';
export { detachReplica } from './detach-replica';
export { promoteToReplicaSource } from './promote-to-replica-source';
export { ejectReplicaSource } from './eject-replica-source';
export { monitorReplicationSet } from './monitor-replication-set';
export { manageAccess } from './manage-access';
export { restartInstance } from './restart-instance';
export { resizeInstance } from './resize-instance';
export { recoverDeadRelay } from './recover-dead-relay';
export { enableReplicationTls } from './enable-replication-tls';
export { createPair } from './create-pair';
export { switchPairActive } from './switch-pair-active';
export { failOverPair } from './fail-over-pair';
export { breakPair } from './break-pair';
