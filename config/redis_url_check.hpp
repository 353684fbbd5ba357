// The shape of `redis.url`, checked at load time so that a mistake is named with its key
// before anything starts. The grammar is redis/url.hpp's (the Redis library parses the
// value when it connects; config does not link that library); tests/config/redis_url_test.cpp
// holds the two to the same answers.
#pragma once

#include <string>
#include <string_view>

namespace stopgate::config {

/// What is wrong with a redis.url value, for the person editing the file; "" when it is
/// well formed. Thread-safe (pure).
std::string redis_url_problem(std::string_view url);

}  // namespace stopgate::config
