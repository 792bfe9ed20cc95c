// Every workflow type the orchestrator worker runs (the bundle's entry point).
export { provisionInstance } from './provision-instance';
export { deleteInstance } from './delete-instance';
