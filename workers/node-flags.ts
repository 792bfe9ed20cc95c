// The orchestrator worker's node flags, for everything that starts one (the stack, the bench
// and its tests; docker-compose.yml spells them out). Semi-spaces of 64 MB instead of 16:
// watching a thousand sets, every member's read leaves short-lived garbage (mysql2's packets,
// column definitions, rows) fast enough that scavenges took 17.7 % of the main thread; with
// 64 MB, 9.1 % (bench/improvements.md, section 15). The young generation grows to it only
// as the allocation rate asks.
export const ORCHESTRATOR_NODE_FLAGS = ['--max-semi-space-size=64'];
