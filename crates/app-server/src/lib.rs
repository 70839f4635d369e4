//! Client and lease pool for shared app-server children speaking JSON-RPC over stdio.
