"""The benchmark wing: ``eventbt bench``'s generated workloads (:mod:`eventbt.bench.workloads`) and the
runner that times them (:mod:`eventbt.bench.runner`). See ``docs/performance.md``."""
