#!/usr/bin/env bash
# Unit tests (Check): the pure core, module by module.
exec "${UNIT_BIN:-build/unit-tests}"
