# Runs `npm ci` in WEB_DIR only when node_modules is missing or older than package-lock.json,
# then touches STAMP. With RUN_TESTS=ON it also runs `npm test` (vitest) and fails with it.
if(NOT EXISTS ${WEB_DIR}/node_modules/.package-lock.json OR
   ${WEB_DIR}/package-lock.json IS_NEWER_THAN ${WEB_DIR}/node_modules/.package-lock.json)
  message(STATUS "web: npm ci")
  execute_process(COMMAND ${NPM} ci --no-audit --no-fund --prefer-offline
                  WORKING_DIRECTORY ${WEB_DIR} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "web: npm ci failed (${rc})")
  endif()
endif()
if(STAMP)
  file(TOUCH ${STAMP})
endif()
if(RUN_TESTS)
  execute_process(COMMAND ${NPM} test WORKING_DIRECTORY ${WEB_DIR} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "web: npm test failed (${rc})")
  endif()
endif()
