// The non-template parts of Boost.Asio (with its SSL support) and Boost.Beast, compiled once
// for the whole build instead of inline in every translation unit that uses them
// (BOOST_ASIO_SEPARATE_COMPILATION, BOOST_BEAST_SEPARATE_COMPILATION; CMakeLists.txt).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
