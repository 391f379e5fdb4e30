package check

// The names Bicep knows without a declaration, from the Bicep compiler's namespaces
// (Azure/bicep, src/Bicep.Core/Semantics/Namespaces/SystemNamespaceType.cs and
// AzNamespaceType.cs, read at commit 9beb0fee60ca53458f41492b699af440367b240b). A function
// missing here makes TestIdentifiersResolve fail on correct Bicep: add it from those files.

// sysFunctions are the functions of the sys namespace, callable bare or as sys.name().
var sysFunctions = wordSet(`
	any array base64 base64ToJson base64ToString bool buildUri cidrHost cidrSubnet concat contains
	dataUri dataUriToString dateTimeAdd dateTimeFromEpoch dateTimeToEpoch distinct empty endsWith
	externalInput fail filter first flatten format groupBy guid indexOf int intersection items join
	json last lastIndexOf length like loadDirectoryFileInfo loadFileAsBase64 loadJsonContent
	loadTextContent loadYamlContent map mapValues max min nameof newGuid objectKeys padLeft parseCidr
	parseUri range readCliArg readEnvVar readEnvironmentVariable reduce replace shallowMerge skip sort
	split startsWith string substring take toLower toObject toUpper trim union uniqueString uri
	uriComponent uriComponentToString utcNow`)

// azFunctions are the functions of the az namespace, callable bare or as az.name(). Bicep also
// takes any list* function (listKeys, listSecrets, ...), checked apart.
var azFunctions = wordSet(`
	deployer deployment environment extensionResourceId getSecret managementGroup
	managementGroupResourceId pickZones providers reference resourceGroup resourceId roleDefinitions
	subscription subscriptionResourceId tenant tenantResourceId toLogicalZone toLogicalZones
	toPhysicalZone toPhysicalZones`)

// decorators are the sys decorators.
var decorators = wordSet(`
	allowed batchSize description discriminator export maxLength maxValue metadata minLength
	minValue nullIfNotFound onlyIfNotExists patch retryOn sealed secure validate waitUntil`)
