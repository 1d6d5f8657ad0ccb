#!/usr/bin/env bash
# Builds the project into .build/NAME (so several people can build at once without sharing dist/)
# and runs jest on that build. usage: scripts/dev-test.sh NAME [jest args, e.g. a test path pattern]
set -uo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: scripts/dev-test.sh NAME [jest args]}; shift
out=.build/$name
npx tsc -p tsconfig.json --outDir "$out" --tsBuildInfoFile "$out/.tsbuildinfo" | grep -v '^$' | head -40
node --experimental-vm-modules node_modules/jest/bin/jest.js --config "{\"testEnvironment\":\"node\",\"transform\":{},\"testTimeout\":60000,\"roots\":[\"<rootDir>/$out/test\"],\"testMatch\":[\"**/*.test.js\"]}" "$@"
