// The kit's testing helpers (the `FakeServer` base every platform fake is built on).
export {}
