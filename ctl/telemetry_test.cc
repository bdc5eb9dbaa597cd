// Goal: telemetry stores and replaces sightings, stays within its bound (dropping and
// counting new members when full), cuts long addresses, and forgets and evicts.
#include "ctl/telemetry.h"

#include <string>

#include "gtest/gtest.h"

namespace almanac::ctl {
namespace {

MemberTelemetry Seen(int64_t ms, std::string where = "10.0.0.1/9993") {
  MemberTelemetry t;
  t.last_seen_ms = ms;
  t.physical_address = std::move(where);
  t.version_major = 1;
  t.version_minor = 14;
  t.version_revision = 1;
  t.protocol_version = 12;
  return t;
}

TEST(TelemetryTest, RecordGetReplace) {
  Telemetry telemetry(4);
  EXPECT_FALSE(telemetry.Get(1, 2).has_value());
  ASSERT_TRUE(telemetry.Record(1, 2, Seen(100)));
  ASSERT_TRUE(telemetry.Record(1, 2, Seen(200, "10.0.0.9/1")));
  auto got = telemetry.Get(1, 2);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->last_seen_ms, 200);
  EXPECT_EQ(got->physical_address, "10.0.0.9/1");
  EXPECT_EQ(got->protocol_version, 12);
  EXPECT_FALSE(telemetry.Get(2, 2).has_value());  // other network, same address
  EXPECT_EQ(telemetry.size(), 1u);
}

TEST(TelemetryTest, BoundedDropsNewMembersWhenFull) {
  Telemetry telemetry(2);
  ASSERT_TRUE(telemetry.Record(1, 1, Seen(1)));
  ASSERT_TRUE(telemetry.Record(1, 2, Seen(2)));
  EXPECT_FALSE(telemetry.Record(1, 3, Seen(3)));
  EXPECT_EQ(telemetry.size(), 2u);
  EXPECT_EQ(telemetry.dropped(), 1u);
  EXPECT_TRUE(telemetry.Record(1, 2, Seen(4)));  // known members still update
  EXPECT_EQ(telemetry.EvictOlderThan(2), 1u);      // drops (1,1)
  EXPECT_TRUE(telemetry.Record(1, 3, Seen(5)));
  EXPECT_EQ(telemetry.size(), 2u);
}

TEST(TelemetryTest, CutsLongPhysicalAddress) {
  Telemetry telemetry;
  ASSERT_TRUE(telemetry.Record(1, 1, Seen(1, std::string(1000, 'x'))));
  EXPECT_EQ(telemetry.Get(1, 1)->physical_address.size(), kTelemetryPhysicalAddressBytesMax);
}

TEST(TelemetryTest, ForgetAndForgetNetwork) {
  Telemetry telemetry;
  ASSERT_TRUE(telemetry.Record(1, 1, Seen(1)));
  ASSERT_TRUE(telemetry.Record(1, 2, Seen(1)));
  ASSERT_TRUE(telemetry.Record(2, 1, Seen(1)));
  telemetry.Forget(1, 1);
  EXPECT_FALSE(telemetry.Get(1, 1).has_value());
  telemetry.ForgetNetwork(1);
  EXPECT_FALSE(telemetry.Get(1, 2).has_value());
  EXPECT_TRUE(telemetry.Get(2, 1).has_value());
  EXPECT_EQ(telemetry.size(), 1u);
}

}  // namespace
}  // namespace almanac::ctl
