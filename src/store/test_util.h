// Test helpers for the store tests: a private temporary directory removed
// (with its files) when the object dies. Test-only; not part of the library.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace lifeline::testing_util {

class TempDir {
 public:
  TempDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "lifeline-store-XXXXXX")
            .string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string File(const std::string& name) const {
    return (path_ / name).string();
  }

 private:
  std::filesystem::path path_;
};

}  // namespace lifeline::testing_util
