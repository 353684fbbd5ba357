// Compiles cmake/pch.hpp once; every target reuses the result (CMakeLists.txt).
