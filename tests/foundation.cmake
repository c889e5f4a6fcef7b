# Tests of the foundation (config, IPC, signer, supervisor, ceremony).
