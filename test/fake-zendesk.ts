// The fake lives with the benchmarks, which use it too (bench/storm.mjs).
export { FakeZendesk, type FakeCall, type FakeTicket, type HumanChange, type Delivery } from '../bench/lib/fake-zendesk.cjs';
