#!/usr/bin/env bash
# Builds the folder every vigil Lambda runs from (context `lambdaBundle`, default infra/build/lambda):
# the compiled service (dist/src/app/lambda.js and all it imports), its production node_modules for
# Lambda's Linux x64, the Prisma schema and the workflow files. Run it before `npx cdk deploy`.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:-$root/infra/build/lambda}"
limit_mb=250 # Lambda's limit for an unzipped .zip package

rm -rf "$out"
mkdir -p "$out"
cd "$root"
node scripts/prisma-generate.js
npx tsc -p tsconfig.image.json --outDir "$out/dist"
cp package.json package-lock.json "$out/"
cp -R prisma workflows "$out/"

cd "$out"
# sharp and onnxruntime-node ship native binaries: install Lambda's, whatever machine builds.
npm ci --omit=dev --ignore-scripts --no-audit --no-fund --os=linux --cpu=x64 --libc=glibc
# Not needed at run time: other platforms' binaries, the Prisma CLI (Lambdas never migrate), source maps, types, docs.
rm -rf node_modules/onnxruntime-node/bin/napi-v*/{darwin,win32} node_modules/onnxruntime-node/bin/napi-v*/linux/arm64
rm -rf node_modules/prisma node_modules/@prisma/dev node_modules/@prisma/studio-core
find node_modules \( -name '*.map' -o -name '*.d.ts' -o -name '*.md' \) -type f -delete
rm package-lock.json

size_mb=$(du -sm . | cut -f1)
if [ "$size_mb" -gt "$limit_mb" ]; then
  echo "the Lambda bundle is ${size_mb} MB, over Lambda's ${limit_mb} MB: use AWS detectors (no built-in models in Lambda) and drop the backbone packages, or package the functions as container images" >&2
  exit 1
fi
echo "Lambda bundle ready: $out (${size_mb} MB)"
