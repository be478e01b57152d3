/** The variables the Lambda Node runtime sets (and Powertools reads), for the Lambda suites. */
export const LAMBDA_ENV: Readonly<Record<string, string>> = {
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x',
  LAMBDA_TASK_ROOT: '/var/task',
  _HANDLER: 'index.handler',
  AWS_LAMBDA_FUNCTION_NAME: 'retrieval',
  AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
  AWS_REGION: 'eu-west-1',
  POWERTOOLS_SERVICE_NAME: 'retrieval',
  POWERTOOLS_TRACER_CAPTURE_HTTPS_REQUESTS: 'false',
  AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
}
