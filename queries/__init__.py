"""Gap checks over the operating-model graph: the catalog, the runner and waivers."""
