#include "providers/ec2/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>

namespace lifeline::ec2 {
namespace {

// A private directory with AWS shared files, and an environment map.
class Ec2ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ec2-config-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    env_["HOME"] = dir_;
    env_["AWS_SHARED_CREDENTIALS_FILE"] = dir_ + "/credentials";
    env_["AWS_CONFIG_FILE"] = dir_ + "/config";
  }
  void TearDown() override {
    std::remove((dir_ + "/credentials").c_str());
    std::remove((dir_ + "/config").c_str());
    rmdir(dir_.c_str());
  }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name) << text;
  }
  Result<Ec2Config> Load() {
    return Ec2Config::FromEnvironment(
        [this](std::string_view n) -> std::optional<std::string> {
          auto it = env_.find(std::string(n));
          if (it == env_.end()) return std::nullopt;
          return it->second;
        });
  }

  std::string dir_;
  std::map<std::string, std::string> env_;
};

TEST_F(Ec2ConfigTest, EnvironmentCredentialsRegionAndEndpoint) {
  env_["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE";
  env_["AWS_SECRET_ACCESS_KEY"] = "secret";
  env_["AWS_SESSION_TOKEN"] = "session";
  env_["AWS_DEFAULT_REGION"] = "eu-west-1";
  env_["AWS_REGION"] = "eu-central-1";
  env_["AWS_ENDPOINT_URL"] = "http://generic:1";
  env_["AWS_ENDPOINT_URL_EC2"] = "http://127.0.0.1:5000";
  auto c = Load();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->region, "eu-central-1");  // AWS_REGION wins
  EXPECT_EQ(c->EndpointUrl(), "http://127.0.0.1:5000");
  EXPECT_EQ(c->credentials_source, CredentialsSource::kStatic);
  EXPECT_EQ(c->credentials.access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(c->credentials.session_token, "session");
  EXPECT_EQ(c->credentials_origin, "environment");
  EXPECT_TRUE(c->Validate().ok());
}

TEST_F(Ec2ConfigTest, DefaultEndpointIsTheRegionalOne) {
  env_["AWS_ACCESS_KEY_ID"] = "a";
  env_["AWS_SECRET_ACCESS_KEY"] = "b";
  env_["AWS_DEFAULT_REGION"] = "ap-south-1";
  auto c = Load();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->EndpointUrl(), "https://ec2.ap-south-1.amazonaws.com");
}

TEST_F(Ec2ConfigTest, ProfileFromSharedFiles) {
  Write("credentials",
        "[default]\naws_access_key_id = D\naws_secret_access_key = DS\n"
        "# a comment\n[ops]\naws_access_key_id=OPS\n"
        "aws_secret_access_key=OPSSECRET\naws_session_token = T\n");
  Write("config",
        "[default]\nregion = us-east-1\n[profile ops]\nregion = us-west-2\n"
        "s3 =\n  max_concurrent_requests = 4\n"
        "endpoint_url = http://localhost:4566\n");
  env_["AWS_PROFILE"] = "ops";
  auto c = Load();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->profile, "ops");
  EXPECT_EQ(c->region, "us-west-2");
  EXPECT_EQ(c->endpoint, "http://localhost:4566");
  EXPECT_EQ(c->credentials.access_key_id, "OPS");
  EXPECT_EQ(c->credentials.secret_access_key, "OPSSECRET");
  EXPECT_EQ(c->credentials.session_token, "T");
  EXPECT_NE(c->credentials_origin.find("profile ops"), std::string::npos);
}

TEST_F(Ec2ConfigTest, KeysInTheConfigFileProfileAreUsedToo) {
  Write("config",
        "[profile cfg]\nregion = sa-east-1\naws_access_key_id = C\n"
        "aws_secret_access_key = CS\n");
  env_["AWS_PROFILE"] = "cfg";
  auto c = Load();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->credentials.access_key_id, "C");
}

TEST_F(Ec2ConfigTest, UnknownProfileIsNamed) {
  env_["AWS_PROFILE"] = "nope";
  env_["AWS_REGION"] = "us-east-1";
  auto c = Load();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("AWS_PROFILE=nope"), std::string::npos);
}

TEST_F(Ec2ConfigTest, MissingRegionSaysWhereToSetIt) {
  env_["AWS_ACCESS_KEY_ID"] = "a";
  env_["AWS_SECRET_ACCESS_KEY"] = "b";
  auto c = Load();
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("AWS_REGION"), std::string::npos);
}

TEST_F(Ec2ConfigTest, HalfAKeyPairIsAnError) {
  env_["AWS_REGION"] = "us-east-1";
  env_["AWS_ACCESS_KEY_ID"] = "a";
  auto c = Load();
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("AWS_SECRET_ACCESS_KEY is not"),
            std::string::npos);
}

TEST_F(Ec2ConfigTest, FallsBackToInstanceMetadata) {
  env_["AWS_REGION"] = "us-east-1";
  env_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://127.0.0.1:9/";
  auto c = Load();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->credentials_source, CredentialsSource::kImds);
  EXPECT_EQ(c->imds_endpoint, "http://127.0.0.1:9");
  EXPECT_TRUE(c->Validate().ok());
}

TEST_F(Ec2ConfigTest, MetadataDisabledAndNoKeysIsAnError) {
  env_["AWS_REGION"] = "us-east-1";
  env_["AWS_EC2_METADATA_DISABLED"] = "true";
  EXPECT_FALSE(Load().ok());
}

TEST_F(Ec2ConfigTest, UnsupportedProfileKindsAreRefusedClearly) {
  Write("config",
        "[profile role]\nregion = us-east-1\nrole_arn = arn:aws:iam::1:role/x"
        "\nsource_profile = default\n");
  env_["AWS_PROFILE"] = "role";
  auto c = Load();
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("role_arn"), std::string::npos);
}

TEST_F(Ec2ConfigTest, SettingsWinOverTheEnvironment) {
  env_["AWS_ACCESS_KEY_ID"] = "a";
  env_["AWS_SECRET_ACCESS_KEY"] = "b";
  env_["AWS_REGION"] = "us-east-1";
  env_["AWS_ENDPOINT_URL_EC2"] = "http://from-env:1";
  auto lookup = [this](std::string_view n) -> std::optional<std::string> {
    auto it = env_.find(std::string(n));
    if (it == env_.end()) return std::nullopt;
    return it->second;
  };
  auto c = Ec2Config::FromSettings({{"region", "eu-north-1"},
                                    {"endpoint", "http://127.0.0.1:5000"},
                                    {"request_timeout", "5s"},
                                    {"initial_backoff", "50ms"},
                                    {"max_attempts", "3"},
                                    {"max_in_flight", "8"}},
                                   lookup);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->region, "eu-north-1");
  EXPECT_EQ(c->EndpointUrl(), "http://127.0.0.1:5000");
  EXPECT_EQ(c->request_timeout, seconds(5));
  EXPECT_EQ(c->retry.initial_backoff, milliseconds(50));
  EXPECT_EQ(c->retry.max_attempts, 3);
  EXPECT_EQ(c->max_in_flight, 8);
  EXPECT_EQ(c->credentials_origin, "environment");

  auto bad = Ec2Config::FromSettings({{"poll_interval", "soon"}}, lookup);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("poll_interval"), std::string::npos);
  bad = Ec2Config::FromSettings({{"regoin", "x"}}, lookup);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unknown key regoin"),
            std::string::npos);
  bad = Ec2Config::FromSettings({{"max_in_flight", "0"}}, lookup);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("max_in_flight"), std::string::npos);
}

TEST_F(Ec2ConfigTest, SettingsChooseTheCredentialsSource) {
  Write("credentials",
        "[ops]\naws_access_key_id = P\naws_secret_access_key = PS\n");
  env_["AWS_ACCESS_KEY_ID"] = "E";
  env_["AWS_SECRET_ACCESS_KEY"] = "ES";
  env_["AWS_REGION"] = "us-east-1";
  auto lookup = [this](std::string_view n) -> std::optional<std::string> {
    auto it = env_.find(std::string(n));
    if (it == env_.end()) return std::nullopt;
    return it->second;
  };
  auto p = Ec2Config::FromSettings(
      {{"profile", "ops"}, {"credentials", "profile"}}, lookup);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->credentials.access_key_id, "P");  // not the environment's
  auto i = Ec2Config::FromSettings({{"credentials", "imds"}}, lookup);
  ASSERT_TRUE(i.ok()) << i.status().ToString();
  EXPECT_EQ(i->credentials_source, CredentialsSource::kImds);
  EXPECT_TRUE(i->credentials.access_key_id.empty());
  env_.erase("AWS_ACCESS_KEY_ID");
  env_.erase("AWS_SECRET_ACCESS_KEY");
  auto e = Ec2Config::FromSettings({{"credentials", "environment"}}, lookup);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("AWS_ACCESS_KEY_ID"), std::string::npos);
  auto x = Ec2Config::FromSettings({{"credentials", "magic"}}, lookup);
  EXPECT_FALSE(x.ok());
}

TEST(Ec2ConfigValidate, NamesTheBadField) {
  Ec2Config c;
  c.region = "us-east-1";
  c.credentials = {"a", "b", "", std::nullopt};
  EXPECT_TRUE(c.Validate().ok());
  c.max_in_flight = 0;
  EXPECT_NE(c.Validate().message().find("max_in_flight"), std::string::npos);
  c.max_in_flight = 4;
  c.endpoint = "ftp://x";
  EXPECT_NE(c.Validate().message().find("ftp://x"), std::string::npos);
}

TEST(ParseIni, SectionsKeysCommentsAndNestedSettings) {
  IniSections ini =
      ParseIni("; top comment\n[a]\nk = v \n  nested = skip\n\n[ b ]\nx=1\r\n");
  EXPECT_EQ(ini["a"]["k"], "v");
  EXPECT_EQ(ini["a"].count("nested"), 0u);
  EXPECT_EQ(ini["b"]["x"], "1");
}

}  // namespace
}  // namespace lifeline::ec2
