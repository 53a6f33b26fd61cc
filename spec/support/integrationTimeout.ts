// Integration specs start their own etcd (and processes, and browsers): room for that, but a hang still
// fails. `testTimeout` is global in jest's config; per project, it is set here.
jest.setTimeout(60_000);
