// The fake lives beside the fake Zendesk in bench/lib.
export { FakeServiceNow, type CreateFault, type FakeIncident, type FakeSnCall } from '../../bench/lib/fake-servicenow.cjs';
