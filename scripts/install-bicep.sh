#!/usr/bin/env bash
# Installs the Bicep CLI from NuGet (package Azure.Bicep.CommandLine.<rid>, which ships the native
# `bicep` binary) into .tools/bicep/ and prints the binary's path on stdout. Idempotent: a binary
# that is already there and answers --version is reused without touching the network.
# usage: scripts/install-bicep.sh            (BICEP_VERSION=0.49.2 by default)
set -euo pipefail
cd "$(dirname "$0")/.."

version=${BICEP_VERSION:-0.49.2}
case "$(uname -m)" in
  x86_64 | amd64) rid=linux-x64 ;;
  aarch64 | arm64) rid=linux-arm64 ;;
  *) echo "error: no Bicep CLI package for $(uname -m)" >&2; exit 1 ;;
esac
package=Azure.Bicep.CommandLine.$rid
root=$PWD/.tools/bicep
packages=$root/packages
# NuGet lower-cases the package folder: packages/<id>/<version>/tools/bicep
binary=$packages/$(echo "$package" | tr '[:upper:]' '[:lower:]')/$version/tools/bicep
link=$root/bicep

if [ -x "$binary" ] && "$binary" --version >/dev/null 2>&1; then
  ln -sfn "$binary" "$link"
  echo "$link"
  exit 0
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "error: the .NET SDK (dotnet) is needed to restore $package from NuGet" >&2
  exit 1
fi

# A throwaway project whose only job is a PackageDownload: NuGet fetches and verifies the package
# without it becoming a dependency of anything. The target framework is the installed SDK's own, so
# the restore needs no extra targeting pack.
tfm=net$(dotnet --version | cut -d. -f1).0
work=$root/restore
mkdir -p "$work"
cat >"$work/restore-bicep.csproj" <<CSPROJ
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>$tfm</TargetFramework>
  </PropertyGroup>
  <ItemGroup>
    <PackageDownload Include="$package" Version="[$version]" />
  </ItemGroup>
</Project>
CSPROJ
echo "restoring $package $version from NuGet into $packages" >&2
dotnet restore "$work/restore-bicep.csproj" --packages "$packages" --nologo -v quiet >&2

if [ ! -f "$binary" ]; then
  echo "error: $package $version restored, but $binary is missing" >&2
  exit 1
fi
chmod +x "$binary"
"$binary" --version >&2
ln -sfn "$binary" "$link"
echo "$link"
